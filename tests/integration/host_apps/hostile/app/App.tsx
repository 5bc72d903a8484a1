export default function App() {
  return <h1>hostile</h1>;
}
