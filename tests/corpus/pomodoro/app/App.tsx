import { useEffect, useState } from "react"
import { Pause, Play, RotateCcw, Timer } from "lucide-react"

import { Badge } from "@/components/ui/badge"
import { Button } from "@/components/ui/button"
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card"

const FOCUS_SECONDS = 25 * 60

function formatTime(seconds: number) {
  const minutes = Math.floor(seconds / 60)
  const rest = seconds % 60
  return `${String(minutes).padStart(2, "0")}:${String(rest).padStart(2, "0")}`
}

export default function App() {
  const [secondsLeft, setSecondsLeft] = useState(FOCUS_SECONDS)
  const [running, setRunning] = useState(false)
  const [sessions, setSessions] = useState(0)

  useEffect(() => {
    if (!running) return
    const id = setInterval(() => {
      setSecondsLeft((s) => {
        if (s <= 1) {
          setRunning(false)
          setSessions((n) => n + 1)
          return FOCUS_SECONDS
        }
        return s - 1
      })
    }, 1000)
    return () => clearInterval(id)
  }, [running])

  const reset = () => {
    setRunning(false)
    setSecondsLeft(FOCUS_SECONDS)
  }

  return (
    <main className="flex min-h-screen flex-col items-center justify-center gap-6 bg-background p-8">
      <Card className="w-full max-w-sm">
        <CardHeader>
          <CardTitle className="flex items-center gap-2" data-testid="title">
            <Timer className="size-5 text-primary" data-testid="title-icon" />
            Pomodoro
          </CardTitle>
          <CardDescription>Focus for 25 minutes, then take a break.</CardDescription>
        </CardHeader>
        <CardContent className="flex flex-col items-center gap-6">
          <div data-testid="time" className="font-mono text-6xl font-bold tabular-nums">
            {formatTime(secondsLeft)}
          </div>
          <Badge data-testid="state" variant={running ? "default" : "secondary"}>
            {running ? "Focusing" : "Paused"}
          </Badge>
          <div data-testid="controls" className="flex gap-2">
            <Button data-testid="toggle" onClick={() => setRunning((r) => !r)}>
              {running ? <Pause /> : <Play />}
              {running ? "Pause" : "Start"}
            </Button>
            <Button variant="outline" size="icon" aria-label="Reset" onClick={reset}>
              <RotateCcw />
            </Button>
          </div>
          <p className="text-sm text-muted-foreground">Sessions completed: {sessions}</p>
        </CardContent>
      </Card>
    </main>
  )
}
