import type { Shift } from "../lib/types";
import { addDays, DAY_NAMES } from "../lib/dates";
import { ShiftCard } from "./ShiftCard";
import "./WeekGrid.css";

interface WeekGridProps {
  weekStart: Date;
  shifts: Shift[];
  onRemove: (id: string) => void;
}

export function WeekGrid({ weekStart, shifts, onRemove }: WeekGridProps) {
  return (
    <section className="week-grid" data-testid="week-grid">
      {DAY_NAMES.map((name, day) => (
        <div className="day" key={name} data-testid={`day-${day}`}>
          <h2>{name} {addDays(weekStart, day).getDate()}</h2>
          {shifts.filter((s) => s.day === day).map((shift) => (
            <ShiftCard key={shift.id} shift={shift} onRemove={onRemove} />
          ))}
        </div>
      ))}
    </section>
  );
}
