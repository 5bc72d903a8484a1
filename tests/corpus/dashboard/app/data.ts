import { addDays, format } from "date-fns"

const START = new Date(2026, 0, 5)
const VISITS = [420, 380, 510, 640, 590, 720, 680]

export const visitsByDay = VISITS.map((visits, i) => ({
  day: format(addDays(START, i), "MMM d"),
  visits,
}))

export const STATS = [
  { label: "Visitors", value: "3,940", change: 12.4 },
  { label: "Sign-ups", value: "318", change: 4.1 },
  { label: "Churn", value: "2.1%", change: -3.2 },
  { label: "Revenue", value: "$12,480", change: 8.9 },
]
