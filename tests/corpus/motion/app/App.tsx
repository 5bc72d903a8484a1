import { useState } from "react"
import { AnimatePresence, motion } from "framer-motion"
import { Heart, Sparkles } from "lucide-react"
import { toast } from "sonner"

import { Button } from "@/components/ui/button"
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card"
import { Toaster } from "@/components/ui/sonner"

const IDEAS = ["Sunrise hike", "Pottery class", "Night market", "Board game café"]

export default function App() {
  const [liked, setLiked] = useState<string[]>([])

  const like = (idea: string) => {
    setLiked((current) => [...current, idea])
    toast.success("Saved to favourites", { description: idea })
  }

  return (
    <div className="min-h-screen bg-gradient-to-br from-amber-50 to-rose-100 p-8">
      <motion.h1
        data-testid="headline"
        initial={{ opacity: 0, y: -20 }}
        animate={{ opacity: 1, y: 0 }}
        transition={{ duration: 0.4 }}
        className="mb-8 flex items-center gap-2 text-3xl font-bold text-rose-900"
      >
        <Sparkles className="h-7 w-7" /> Weekend ideas
      </motion.h1>

      <div className="grid gap-4 sm:grid-cols-2">
        {IDEAS.map((idea, i) => (
          <motion.div
            key={idea}
            data-testid="idea"
            initial={{ opacity: 0, scale: 0.9 }}
            animate={{ opacity: 1, scale: 1 }}
            transition={{ delay: i * 0.05, duration: 0.3 }}
            whileHover={{ scale: 1.03 }}
          >
            <Card>
              <CardHeader>
                <CardTitle className="text-lg">{idea}</CardTitle>
                <CardDescription>Tap the heart to keep it.</CardDescription>
              </CardHeader>
              <CardContent>
                <Button
                  data-testid={`like-${i}`}
                  variant={liked.includes(idea) ? "default" : "outline"}
                  onClick={() => like(idea)}
                >
                  <Heart /> {liked.includes(idea) ? "Saved" : "Save"}
                </Button>
              </CardContent>
            </Card>
          </motion.div>
        ))}
      </div>

      <AnimatePresence>
        {liked.length > 0 && (
          <motion.p
            data-testid="liked-count"
            initial={{ opacity: 0 }}
            animate={{ opacity: 1 }}
            exit={{ opacity: 0 }}
            className="mt-8 text-center text-rose-900"
          >
            {liked.length} saved
          </motion.p>
        )}
      </AnimatePresence>

      <Toaster position="bottom-right" />
    </div>
  )
}
