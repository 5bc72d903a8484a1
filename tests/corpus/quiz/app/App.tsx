import { useState } from "react"
import { motion } from "motion/react"

import { Button } from "@/components/ui/button"
import { Card, CardContent, CardFooter, CardHeader, CardTitle } from "@/components/ui/card"
import { Label } from "@/components/ui/label"
import { RadioGroup, RadioGroupItem } from "@/components/ui/radio-group"
import { QUESTIONS } from "./questions"

export default function QuizApp() {
  const [index, setIndex] = useState(0)
  const [choice, setChoice] = useState("")
  const [score, setScore] = useState(0)
  const [finished, setFinished] = useState(false)

  const question = QUESTIONS[index]
  const progress = Math.round((index / QUESTIONS.length) * 100)

  const next = () => {
    const nextScore = score + (choice === question.answer ? 1 : 0)
    setScore(nextScore)
    setChoice("")
    if (index + 1 === QUESTIONS.length) setFinished(true)
    else setIndex(index + 1)
  }

  const restart = () => {
    setIndex(0)
    setScore(0)
    setFinished(false)
  }

  if (finished) {
    return (
      <div className="mx-auto max-w-md p-6">
        <Card className="text-center">
          <CardHeader>
            <CardTitle>Quiz complete</CardTitle>
          </CardHeader>
          <CardContent>
            <p data-testid="score" className="text-4xl font-bold text-primary">
              {score}/{QUESTIONS.length}
            </p>
          </CardContent>
          <CardFooter className="justify-center">
            <Button onClick={restart}>Try again</Button>
          </CardFooter>
        </Card>
      </div>
    )
  }

  return (
    <div className="mx-auto max-w-md p-6">
      <div className="mb-4 h-2 w-full overflow-hidden rounded-full bg-secondary">
        <div
          data-testid="progress"
          className="h-full bg-primary transition-all"
          style={{ width: `${progress}%` }}
        />
      </div>
      <motion.div
        key={index}
        initial={{ opacity: 0, x: 24 }}
        animate={{ opacity: 1, x: 0 }}
        transition={{ duration: 0.2 }}
      >
        <Card>
          <CardHeader>
            <p className="text-sm text-muted-foreground">
              Question {index + 1} of {QUESTIONS.length}
            </p>
            <CardTitle data-testid="prompt" className="text-xl">
              {question.prompt}
            </CardTitle>
          </CardHeader>
          <CardContent>
            <RadioGroup value={choice} onValueChange={setChoice} data-testid="options">
              {question.options.map((option) => (
                <div key={option} className="flex items-center space-x-3 rounded-md border p-3">
                  <RadioGroupItem value={option} id={option} />
                  <Label htmlFor={option} className="flex-1 cursor-pointer">
                    {option}
                  </Label>
                </div>
              ))}
            </RadioGroup>
          </CardContent>
          <CardFooter className="justify-end">
            <Button data-testid="next" disabled={!choice} onClick={next}>
              {index + 1 === QUESTIONS.length ? "Finish" : "Next"}
            </Button>
          </CardFooter>
        </Card>
      </motion.div>
    </div>
  )
}
