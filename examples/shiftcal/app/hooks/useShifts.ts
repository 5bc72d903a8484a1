import { useCallback, useState } from "react";
import type { NewShift, Shift } from "../lib/types";

let nextId = 100;

export function useShifts(initial: Shift[]) {
  const [shifts, setShifts] = useState<Shift[]>(initial);
  const add = useCallback((shift: NewShift) => {
    setShifts((current) => [...current, { ...shift, id: `s${nextId++}` }]);
  }, []);
  const remove = useCallback((id: string) => {
    setShifts((current) => current.filter((s) => s.id !== id));
  }, []);
  return { shifts, add, remove };
}
