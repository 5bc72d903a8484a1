// The page-weight app: a few lucide icons, two date-fns functions and one recharts chart.
import { Activity, CalendarDays, TrendingUp } from "lucide-react";
import { addDays, format } from "date-fns";
import { CartesianGrid, Line, LineChart, Tooltip, XAxis, YAxis } from "recharts";

const START = new Date(2024, 0, 1);
const data = [3, 7, 4, 9, 6].map((visits, i) => ({
  day: format(addDays(START, i), "EEE d"),
  visits,
}));

export default function App() {
  return (
    <main>
      <h1>
        <Activity aria-hidden /> Visits <TrendingUp aria-hidden />
      </h1>
      <p>
        <CalendarDays aria-hidden /> from {format(START, "PPP")}
      </p>
      <LineChart width={480} height={240} data={data}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="day" />
        <YAxis />
        <Tooltip />
        <Line type="monotone" dataKey="visits" stroke="#2563eb" />
      </LineChart>
    </main>
  );
}
