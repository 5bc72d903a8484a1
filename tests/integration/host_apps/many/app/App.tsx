export default function App() {
  return <h1>one of many</h1>;
}
