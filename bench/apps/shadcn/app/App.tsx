import { useState } from "react";
import { Bell, Plus, Settings } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { Dialog, DialogContent, DialogDescription, DialogTitle, DialogTrigger } from "@/components/ui/dialog";
import { DropdownMenu, DropdownMenuCheckboxItem, DropdownMenuContent, DropdownMenuTrigger } from "@/components/ui/dropdown-menu";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { Tooltip, TooltipContent, TooltipProvider, TooltipTrigger } from "@/components/ui/tooltip";

// make bench rewrites this literal before every render so no cache can answer.
const START = 0;

export default function App() {
  const [name, setName] = useState("Ada");
  const [alerts, setAlerts] = useState(true);
  return (
    <TooltipProvider>
      <main className="mx-auto max-w-xl p-6">
        <Card>
          <CardHeader><CardTitle>Team settings {START}</CardTitle></CardHeader>
          <CardContent>
            <Tabs defaultValue="profile">
              <TabsList>
                <TabsTrigger value="profile">Profile</TabsTrigger>
                <TabsTrigger value="alerts">Alerts</TabsTrigger>
              </TabsList>
              <TabsContent value="profile">
                <Label htmlFor="name">Name</Label>
                <Input id="name" value={name} onChange={(e) => setName(e.target.value)} />
              </TabsContent>
              <TabsContent value="alerts">
                <DropdownMenu>
                  <DropdownMenuTrigger asChild><Button variant="outline"><Bell /> Alerts</Button></DropdownMenuTrigger>
                  <DropdownMenuContent>
                    <DropdownMenuCheckboxItem checked={alerts} onCheckedChange={setAlerts}>Email</DropdownMenuCheckboxItem>
                  </DropdownMenuContent>
                </DropdownMenu>
              </TabsContent>
            </Tabs>
            <Dialog>
              <DialogTrigger asChild><Button><Plus /> Invite</Button></DialogTrigger>
              <DialogContent>
                <DialogTitle>Invite {name}</DialogTitle>
                <DialogDescription>They will get an email.</DialogDescription>
              </DialogContent>
            </Dialog>
            <Tooltip>
              <TooltipTrigger asChild><Button variant="ghost" size="icon"><Settings /></Button></TooltipTrigger>
              <TooltipContent>Settings</TooltipContent>
            </Tooltip>
          </CardContent>
        </Card>
      </main>
    </TooltipProvider>
  );
}
