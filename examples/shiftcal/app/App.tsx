import { useMemo, useState } from "react";
import { WeekGrid } from "./components/WeekGrid";
import { ShiftForm } from "./components/ShiftForm";
import { useShifts } from "./hooks/useShifts";
import { startOfWeek, addDays } from "./lib/dates";
import type { Shift } from "./lib/types";
import "./App.css";

const SEED: Shift[] = [
  { id: "s1", person: "Ada", day: 0, start: "09:00", end: "17:00" },
  { id: "s2", person: "Grace", day: 2, start: "12:00", end: "20:00" },
];

export default function App() {
  const [weekOffset, setWeekOffset] = useState(0);
  const { shifts, add, remove } = useShifts(SEED);
  const weekStart = useMemo(() => addDays(startOfWeek(new Date(2026, 10, 23)), weekOffset * 7), [weekOffset]);
  const scopes = (window as { __STAGE__?: { googleScopes: string[] } }).__STAGE__?.googleScopes ?? [];

  return (
    <main className="shiftcal">
      <header>
        <h1>ShiftCal</h1>
        <nav>
          <button onClick={() => setWeekOffset(weekOffset - 1)} aria-label="previous week">‹</button>
          <span data-testid="week-label">Week of {weekStart.toDateString()}</span>
          <button onClick={() => setWeekOffset(weekOffset + 1)} aria-label="next week">›</button>
        </nav>
      </header>
      <ShiftForm onAdd={add} />
      <WeekGrid weekStart={weekStart} shifts={shifts} onRemove={remove} />
      <footer data-testid="scopes">{scopes.length} Google scope(s) declared</footer>
    </main>
  );
}
