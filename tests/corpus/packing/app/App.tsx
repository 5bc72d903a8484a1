import React, { useEffect, useState } from "react"
import { Luggage, Plus, Sparkles } from "lucide-react"
import { Button } from "@/components/ui/button"
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card"
import { Badge } from "@/components/ui/badge"
import { Input } from "@/components/ui/input"
import { Label } from "@/components/ui/label"
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs"
import {
  Dialog,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
  DialogTrigger,
} from "@/components/ui/dialog"
import { Checkbox } from "@/components/ui/checkbox"
import { Progress } from "@/components/ui/progress"
import { Switch } from "@/components/ui/switch"
import { Separator } from "@/components/ui/separator"
import {
  Accordion,
  AccordionContent,
  AccordionItem,
  AccordionTrigger,
} from "@/components/ui/accordion"

type Item = { id: number; name: string; packed: boolean }

const STARTER: Item[] = [
  { id: 1, name: "Passport", packed: true },
  { id: 2, name: "Charger", packed: false },
  { id: 3, name: "Rain jacket", packed: false },
]

const STORAGE_KEY = "packing-list"

export default function PackingList() {
  const [items, setItems] = useState<Item[]>(STARTER)
  const [loaded, setLoaded] = useState(false)
  const [open, setOpen] = useState(false)
  const [draft, setDraft] = useState("")
  const [compact, setCompact] = useState(false)

  // Saved artifacts keep their state with window.storage; read it once, then save every change.
  useEffect(() => {
    const load = async () => {
      try {
        const saved = await window.storage.get(STORAGE_KEY)
        if (saved) setItems(JSON.parse(saved.value))
      } catch (error) {
        console.log("nothing saved yet", error)
      }
      setLoaded(true)
    }
    load()
  }, [])

  useEffect(() => {
    if (loaded) window.storage.set(STORAGE_KEY, JSON.stringify(items))
  }, [items, loaded])

  const packed = items.filter((item) => item.packed).length
  const percent = Math.round((packed / items.length) * 100)

  const toggle = (id: number) =>
    setItems((current) =>
      current.map((item) => (item.id === id ? { ...item, packed: !item.packed } : item))
    )

  const add = () => {
    if (!draft.trim()) return
    setItems((current) => [...current, { id: Date.now(), name: draft.trim(), packed: false }])
    setDraft("")
    setOpen(false)
  }

  return (
    <div className="min-h-screen bg-muted/40 p-8">
      <Card data-testid="card" className="mx-auto max-w-xl">
        <CardHeader>
          <CardTitle className="flex items-center gap-2 text-2xl">
            <Luggage className="h-6 w-6" /> Packing list
          </CardTitle>
          <CardDescription>Lisbon, three nights</CardDescription>
        </CardHeader>
        <CardContent className="space-y-4">
          <div className="flex items-center justify-between">
            <Badge data-testid="count" variant="secondary">
              {packed}/{items.length} packed
            </Badge>
            <span data-testid="loaded" className="text-xs text-muted-foreground">
              {loaded ? "Saved" : "Loading"}
            </span>
          </div>
          <Progress data-testid="progress" value={percent} />
          <Tabs defaultValue="items">
            <TabsList>
              <TabsTrigger value="items">Items</TabsTrigger>
              <TabsTrigger value="settings">Settings</TabsTrigger>
            </TabsList>
            <TabsContent value="items" data-testid="items-panel">
              <ul className={compact ? "space-y-1" : "space-y-3"}>
                {items.map((item) => (
                  <li key={item.id} data-testid="item" className="flex items-center gap-3">
                    <Checkbox
                      id={`item-${item.id}`}
                      checked={item.packed}
                      onCheckedChange={() => toggle(item.id)}
                    />
                    <Label htmlFor={`item-${item.id}`}>{item.name}</Label>
                  </li>
                ))}
              </ul>
              <Dialog open={open} onOpenChange={setOpen}>
                <DialogTrigger asChild>
                  <Button data-testid="add" className="mt-4">
                    <Plus /> Add item
                  </Button>
                </DialogTrigger>
                <DialogContent>
                  <DialogHeader>
                    <DialogTitle>Add an item</DialogTitle>
                    <DialogDescription>It goes to the bottom of the list.</DialogDescription>
                  </DialogHeader>
                  <div className="grid gap-2">
                    <Label htmlFor="name">Name</Label>
                    <Input
                      id="name"
                      value={draft}
                      onChange={(event) => setDraft(event.target.value)}
                      placeholder="Sunglasses"
                    />
                  </div>
                  <DialogFooter>
                    <Button variant="outline" onClick={() => setOpen(false)}>
                      Cancel
                    </Button>
                    <Button data-testid="save" onClick={add}>
                      Save
                    </Button>
                  </DialogFooter>
                </DialogContent>
              </Dialog>
            </TabsContent>
            <TabsContent value="settings" data-testid="settings-panel" className="space-y-4">
              <div className="flex items-center justify-between">
                <Label htmlFor="compact">Compact list</Label>
                <Switch id="compact" checked={compact} onCheckedChange={setCompact} />
              </div>
              <Separator />
              <Accordion type="single" collapsible>
                <AccordionItem value="tips">
                  <AccordionTrigger>
                    <span className="flex items-center gap-2">
                      <Sparkles className="h-4 w-4" /> Packing tips
                    </span>
                  </AccordionTrigger>
                  <AccordionContent data-testid="tips">Roll clothes, do not fold them.</AccordionContent>
                </AccordionItem>
              </Accordion>
            </TabsContent>
          </Tabs>
        </CardContent>
      </Card>
    </div>
  )
}
