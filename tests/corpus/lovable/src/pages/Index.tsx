import { useState } from "react";
import { Leaf, Moon, Sprout } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Accordion, AccordionContent, AccordionItem, AccordionTrigger } from "@/components/ui/accordion";
import { Switch } from "@/components/ui/switch";
import { useDarkMode } from "@/hooks/use-dark-mode";

const habits = [
  { name: "Water the plants", streak: 12 },
  { name: "Read 20 pages", streak: 4 },
  { name: "Evening walk", streak: 0 },
];

const Index = () => {
  const { dark, setDark } = useDarkMode();
  const [watered, setWatered] = useState(0);

  return (
    <div className="min-h-screen bg-background">
      <header className="container flex items-center justify-between py-6" data-testid="header">
        <h1 className="flex items-center gap-2 font-display text-3xl font-bold text-foreground animate-grow" data-testid="title">
          <Sprout className="text-garden-leaf" /> Habit Garden
        </h1>
        <label className="flex items-center gap-2 text-sm text-muted-foreground">
          <Moon className="h-4 w-4" /> Dark
          <Switch checked={dark} onCheckedChange={setDark} data-testid="dark-switch" />
        </label>
      </header>

      <main className="container grid gap-6 md:grid-cols-3">
        {habits.map((habit) => (
          <Card key={habit.name} className="animate-in fade-in slide-in-from-bottom-4 duration-500" data-testid="habit-card">
            <CardHeader>
              <CardTitle className="text-xl">{habit.name}</CardTitle>
              <CardDescription>{habit.streak} day streak</CardDescription>
            </CardHeader>
            <CardContent className="flex items-center justify-between">
              {habit.streak > 0 ? (
                <Badge data-testid="streak-badge">On track</Badge>
              ) : (
                <Badge variant="destructive">Start today</Badge>
              )}
              <span className="habit-chip" data-testid="chip"><Leaf className="h-3 w-3" /> {habit.streak}</span>
            </CardContent>
          </Card>
        ))}

        <Card className="md:col-span-2">
          <CardHeader>
            <CardTitle>Today</CardTitle>
            <CardDescription>Watered {watered} times</CardDescription>
          </CardHeader>
          <CardContent className="flex gap-3">
            <Button onClick={() => setWatered((n) => n + 1)} data-testid="water">Water</Button>
            <Button variant="outline" onClick={() => setWatered(0)}>Reset</Button>
          </CardContent>
        </Card>

        <Card>
          <CardContent className="pt-6">
            <Accordion type="single" collapsible>
              <AccordionItem value="tips">
                <AccordionTrigger data-testid="tips-trigger">Gardening tips</AccordionTrigger>
                <AccordionContent data-testid="tips-content">Water early, before the sun is high.</AccordionContent>
              </AccordionItem>
            </Accordion>
          </CardContent>
        </Card>
      </main>
    </div>
  );
};

export default Index;
