import type { Metadata } from "next"

export const metadata: Metadata = {
  title: "About",
  description: "Who picks the gear.",
}

export default function AboutPage() {
  return (
    <div className="space-y-3">
      <h1 data-testid="about-title" className="text-3xl font-semibold">About Northwind</h1>
      <p className="text-muted-foreground">
        Three friends, one van, and a lot of tested tents. <a href="/">See the gear</a>.
      </p>
    </div>
  )
}
