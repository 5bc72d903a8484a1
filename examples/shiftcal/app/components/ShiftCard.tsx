import type { Shift } from "../lib/types";

export function ShiftCard({ shift, onRemove }: { shift: Shift; onRemove: (id: string) => void }) {
  return (
    <article className="shift-card" data-testid="shift">
      <strong>{shift.person}</strong>
      <span>{shift.start}–{shift.end}</span>
      <button onClick={() => onRemove(shift.id)} aria-label={`remove ${shift.person}`}>×</button>
    </article>
  );
}
