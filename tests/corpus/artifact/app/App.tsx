import React, { useState } from "react"
import { CheckCircle2, Circle, Flame } from "lucide-react"

const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

const HabitTracker = () => {
  const [done, setDone] = useState<boolean[]>(DAYS.map((_, i) => i < 2))
  const streak = done.filter(Boolean).length

  const toggle = (index: number) => {
    setDone((current) => current.map((value, i) => (i === index ? !value : value)))
  }

  return (
    <div className="min-h-screen bg-slate-950 p-8 text-slate-100">
      <style>{`
        .glow-card {
          border: 2px solid rgb(168, 85, 247);
          box-shadow: 0 0 24px rgba(168, 85, 247, 0.45);
        }
        .title-font {
          letter-spacing: 0.2em;
          text-transform: uppercase;
        }
        @keyframes flicker {
          0%, 100% { opacity: 1; }
          50% { opacity: 0.6; }
        }
        .flame { animation: flicker 1.5s ease-in-out infinite; }
      `}</style>

      <div data-testid="card" className="glow-card mx-auto max-w-md rounded-2xl bg-slate-900 p-6">
        <h1 data-testid="title" className="title-font mb-6 text-center text-sm font-semibold text-purple-300">
          Daily reading
        </h1>
        <div className="mb-6 flex items-center justify-center gap-2 text-3xl font-bold">
          <Flame className="flame h-8 w-8 text-orange-400" />
          <span data-testid="streak">{streak}</span>
          <span className="text-base font-normal text-slate-400">days this week</span>
        </div>
        <div className="grid grid-cols-7 gap-2">
          {DAYS.map((day, i) => (
            <button
              key={day}
              data-testid={`day-${day}`}
              onClick={() => toggle(i)}
              className={`flex flex-col items-center gap-1 rounded-lg p-2 text-xs transition-colors ${
                done[i] ? "bg-purple-600 text-white" : "bg-slate-800 text-slate-400 hover:bg-slate-700"
              }`}
            >
              {done[i] ? <CheckCircle2 className="h-4 w-4" /> : <Circle className="h-4 w-4" />}
              {day}
            </button>
          ))}
        </div>
      </div>
    </div>
  )
}

export default HabitTracker
