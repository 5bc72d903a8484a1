import { useEffect, useState } from "react";

export default function App() {
  const [absolute, setAbsolute] = useState<string | null>(null);
  const [relative, setRelative] = useState<string | null>(null);
  useEffect(() => {
    Promise.all([
      fetch("/api/tasks").then((r) => r.text()).then(setAbsolute),
      fetch("api/tasks").then((r) => r.text()).then(setRelative),
    ]);
  }, []);
  const done = absolute !== null && relative !== null;
  return (
    <main>
      <pre id="absolute" data-done={done ? "" : undefined}>{absolute}</pre>
      <pre id="relative">{relative}</pre>
    </main>
  );
}
