import { useState, type FormEvent } from "react";
import type { NewShift } from "../lib/types";
import { DAY_NAMES } from "../lib/dates";

export function ShiftForm({ onAdd }: { onAdd: (shift: NewShift) => void }) {
  const [person, setPerson] = useState("");
  const [day, setDay] = useState(0);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!person.trim()) return;
    onAdd({ person: person.trim(), day, start: "09:00", end: "17:00" });
    setPerson("");
  }

  return (
    <form onSubmit={submit} className="shift-form">
      <input placeholder="Who?" value={person} onChange={(e) => setPerson(e.target.value)} />
      <select value={day} onChange={(e) => setDay(Number(e.target.value))}>
        {DAY_NAMES.map((name, index) => <option key={name} value={index}>{name}</option>)}
      </select>
      <button type="submit">Add shift</button>
    </form>
  );
}
