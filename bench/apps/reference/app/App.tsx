import { Counter } from "./components/Counter";
import "./App.css";

// make bench rewrites this literal before every render so no cache can answer.
const START = 0;

export default function App() {
  return (
    <main className="app">
      <h1>Stage bench</h1>
      <p>The reference app: React, a component and a stylesheet.</p>
      <Counter start={START} label="clicks" />
    </main>
  );
}
