import { useEffect, useState } from "react";

type Todo = { _id: string; title: string; done: boolean };

export default function App() {
  const [todos, setTodos] = useState<Todo[] | null>(null);
  const [title, setTitle] = useState("");
  const load = async () => setTodos(await (await fetch("api/todos")).json());
  useEffect(() => {
    load();
  }, []);
  const add = async (event: React.FormEvent) => {
    event.preventDefault();
    await fetch("api/todos", { method: "POST", body: JSON.stringify({ title }) });
    setTitle("");
    await load();
  };
  const complete = async (id: string) => {
    await fetch("api/todos", { method: "PATCH", body: JSON.stringify({ id }) });
    await load();
  };
  return (
    <main>
      <form onSubmit={add}>
        <input aria-label="title" value={title} onChange={(e) => setTitle(e.target.value)} />
        <button type="submit">Add</button>
      </form>
      <ul aria-label="todos" data-loaded={todos !== null}>
        {(todos ?? []).map((todo) => (
          <li key={todo._id} data-done={todo.done}>
            {todo.title}
            {!todo.done && <button onClick={() => complete(todo._id)}>Done {todo.title}</button>}
          </li>
        ))}
      </ul>
    </main>
  );
}
