const items = ["Tent", "Stove", "Headlamp"]

export default function PackingList() {
  return (
    <ul data-testid="packing-list" className="list-disc pl-6">
      {items.map((item) => (
        <li key={item}>{item}</li>
      ))}
    </ul>
  )
}
