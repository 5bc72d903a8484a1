export interface Shift {
  id: string;
  person: string;
  day: number; // 0 = Monday
  start: string;
  end: string;
}

export type NewShift = Omit<Shift, "id">;
