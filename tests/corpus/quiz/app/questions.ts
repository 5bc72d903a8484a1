export interface Question {
  prompt: string
  options: string[]
  answer: string
}

export const QUESTIONS: Question[] = [
  {
    prompt: "Which planet is closest to the Sun?",
    options: ["Venus", "Mercury", "Mars"],
    answer: "Mercury",
  },
  {
    prompt: "What is the chemical symbol for gold?",
    options: ["Au", "Ag", "Gd"],
    answer: "Au",
  },
  {
    prompt: "How many sides does a hexagon have?",
    options: ["Five", "Six", "Eight"],
    answer: "Six",
  },
]
