export default function App() {
  return <main>An app whose routes call models.</main>;
}
