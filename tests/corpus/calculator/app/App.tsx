import { useState } from "react"

import { Button } from "@/components/ui/button"
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card"

type Operator = "+" | "−" | "×" | "÷"

const OPERATIONS: Record<Operator, (a: number, b: number) => number> = {
  "+": (a, b) => a + b,
  "−": (a, b) => a - b,
  "×": (a, b) => a * b,
  "÷": (a, b) => (b === 0 ? NaN : a / b),
}

const KEYS = ["7", "8", "9", "÷", "4", "5", "6", "×", "1", "2", "3", "−", "0", ".", "=", "+"]

function isOperator(key: string): key is Operator {
  return key in OPERATIONS
}

export default function Calculator() {
  const [display, setDisplay] = useState("0")
  const [stored, setStored] = useState<number | null>(null)
  const [operator, setOperator] = useState<Operator | null>(null)
  const [fresh, setFresh] = useState(true)

  const press = (key: string) => {
    if (isOperator(key)) {
      setStored(parseFloat(display))
      setOperator(key)
      setFresh(true)
    } else if (key === "=") {
      if (operator === null || stored === null) return
      const result = OPERATIONS[operator](stored, parseFloat(display))
      setDisplay(Number.isNaN(result) ? "Error" : String(Number(result.toFixed(10))))
      setStored(null)
      setOperator(null)
      setFresh(true)
    } else {
      setDisplay(fresh || display === "0" ? (key === "." ? "0." : key) : display + key)
      setFresh(false)
    }
  }

  const clear = () => {
    setDisplay("0")
    setStored(null)
    setOperator(null)
    setFresh(true)
  }

  return (
    <div className="flex min-h-screen items-center justify-center bg-muted p-4">
      <Card data-testid="calculator" className="w-full max-w-xs">
        <CardHeader>
          <CardTitle>Calculator</CardTitle>
        </CardHeader>
        <CardContent className="space-y-4">
          <div
            data-testid="display"
            className="rounded-md bg-background p-4 text-right font-mono text-3xl tabular-nums"
          >
            {display}
          </div>
          <div data-testid="keypad" className="grid grid-cols-4 gap-2">
            {KEYS.map((key) => (
              <Button
                key={key}
                variant={isOperator(key) || key === "=" ? "default" : "outline"}
                className="h-14 text-lg"
                onClick={() => press(key)}
              >
                {key}
              </Button>
            ))}
          </div>
          <Button data-testid="clear" variant="destructive" className="w-full" onClick={clear}>
            Clear
          </Button>
        </CardContent>
      </Card>
    </div>
  )
}
