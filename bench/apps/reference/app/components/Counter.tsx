import { useState } from "react";

type Props = { start: number; label: string };

export function Counter({ start, label }: Props) {
  const [count, setCount] = useState(start);
  return (
    <div className="counter">
      <button onClick={() => setCount(count - 1)} aria-label="decrement">-</button>
      <output data-testid="count">
        {count} {label}
      </output>
      <button onClick={() => setCount(count + 1)} aria-label="increment">+</button>
    </div>
  );
}
