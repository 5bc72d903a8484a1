import { useState } from "react"
import { BookOpen } from "lucide-react"

import { Button } from "@/components/ui/button"
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card"

const SNIPPET = "function greet(name) {\n\treturn `Hello, ${name}!`\n}"

function Panel({ testId }: { testId: string }) {
  return (
    <div data-testid={testId} className="rounded-lg bg-white p-4 dark:bg-zinc-900">
      <p className="text-sm text-muted-foreground">Same classes, light and dark.</p>
    </div>
  )
}

export default function App() {
  const [count, setCount] = useState(0)

  return (
    <div className="mx-auto grid max-w-3xl gap-6 p-8">
      <h1 data-testid="display-heading" className="font-display text-4xl text-brand">
        <BookOpen className="mr-2 inline size-8" />
        Reading room
      </h1>

      <Card data-testid="card" className="animate-in fade-in">
        <CardHeader>
          <CardTitle>Your shelf</CardTitle>
          <CardDescription>Books you started this month.</CardDescription>
        </CardHeader>
        <CardContent className="flex flex-wrap items-center gap-3">
          <Button data-testid="primary-button" onClick={() => setCount((c) => c + 1)}>
            Add a book
          </Button>
          <button data-testid="brand-button" className="btn-brand" type="button">
            Brand action
          </button>
          <span data-testid="count" className="bg-brand/10 rounded-lg px-3 py-1 text-brand">
            {count} added
          </span>
        </CardContent>
      </Card>

      <pre data-testid="code" className="tab-4 rounded-lg bg-muted p-4 font-mono text-sm">
        {SNIPPET}
      </pre>

      <div className="grid grid-cols-2 gap-4">
        <Panel testId="light-panel" />
        <div className="dark">
          <Panel testId="dark-panel" />
        </div>
      </div>
    </div>
  )
}
