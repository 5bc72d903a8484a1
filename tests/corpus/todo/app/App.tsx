import { useState } from "react"
import { zodResolver } from "@hookform/resolvers/zod"
import { Plus } from "lucide-react"
import { useForm } from "react-hook-form"
import { z } from "zod"

import { Badge } from "@/components/ui/badge"
import { Button } from "@/components/ui/button"
import {
  Dialog,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
  DialogTrigger,
} from "@/components/ui/dialog"
import { Form, FormControl, FormField, FormItem, FormLabel, FormMessage } from "@/components/ui/form"
import { Input } from "@/components/ui/input"
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs"

const taskSchema = z.object({
  title: z.string().trim().min(1, { message: "Title is required" }).max(80),
})

type TaskForm = z.infer<typeof taskSchema>

interface Task {
  id: number
  title: string
  done: boolean
}

const STARTING_TASKS: Task[] = [
  { id: 1, title: "Buy oat milk", done: false },
  { id: 2, title: "Water the plants", done: true },
]

function TaskList({ tasks, onToggle, empty }: { tasks: Task[]; onToggle: (id: number) => void; empty: string }) {
  if (tasks.length === 0) {
    return <p className="py-6 text-center text-sm text-muted-foreground">{empty}</p>
  }
  return (
    <ul className="divide-y rounded-md border">
      {tasks.map((task) => (
        <li key={task.id} data-testid="task" className="flex items-center justify-between p-3">
          <span className={task.done ? "text-muted-foreground line-through" : ""}>{task.title}</span>
          <Button size="sm" variant="ghost" onClick={() => onToggle(task.id)}>
            {task.done ? "Undo" : "Done"}
          </Button>
        </li>
      ))}
    </ul>
  )
}

export default function TodoApp() {
  const [tasks, setTasks] = useState<Task[]>(STARTING_TASKS)
  const [open, setOpen] = useState(false)
  const form = useForm<TaskForm>({
    resolver: zodResolver(taskSchema),
    defaultValues: { title: "" },
  })

  const onSubmit = (values: TaskForm) => {
    setTasks((current) => [...current, { id: Date.now(), title: values.title, done: false }])
    form.reset()
    setOpen(false)
  }

  const toggle = (id: number) =>
    setTasks((current) => current.map((t) => (t.id === id ? { ...t, done: !t.done } : t)))

  const active = tasks.filter((t) => !t.done)
  const done = tasks.filter((t) => t.done)

  return (
    <div className="mx-auto max-w-lg space-y-6 p-6">
      <div className="flex items-center justify-between">
        <h1 className="text-2xl font-bold tracking-tight">Tasks</h1>
        <Dialog open={open} onOpenChange={setOpen}>
          <DialogTrigger asChild>
            <Button data-testid="new-task">
              <Plus /> New task
            </Button>
          </DialogTrigger>
          <DialogContent data-testid="task-dialog">
            <DialogHeader>
              <DialogTitle>Add a task</DialogTitle>
              <DialogDescription>Give it a short, clear title.</DialogDescription>
            </DialogHeader>
            <Form {...form}>
              <form onSubmit={form.handleSubmit(onSubmit)} className="space-y-4">
                <FormField
                  control={form.control}
                  name="title"
                  render={({ field }) => (
                    <FormItem>
                      <FormLabel>Title</FormLabel>
                      <FormControl>
                        <Input placeholder="e.g. Call the dentist" {...field} />
                      </FormControl>
                      <FormMessage data-testid="title-error" />
                    </FormItem>
                  )}
                />
                <DialogFooter>
                  <Button type="submit" data-testid="save-task">
                    Save
                  </Button>
                </DialogFooter>
              </form>
            </Form>
          </DialogContent>
        </Dialog>
      </div>

      <Tabs defaultValue="active">
        <TabsList>
          <TabsTrigger value="active">
            Active <Badge variant="secondary">{active.length}</Badge>
          </TabsTrigger>
          <TabsTrigger value="done">
            Done <Badge variant="secondary">{done.length}</Badge>
          </TabsTrigger>
        </TabsList>
        <TabsContent value="active" data-testid="active-panel">
          <TaskList tasks={active} onToggle={toggle} empty="Nothing left to do." />
        </TabsContent>
        <TabsContent value="done" data-testid="done-panel">
          <TaskList tasks={done} onToggle={toggle} empty="Nothing done yet." />
        </TabsContent>
      </Tabs>
    </div>
  )
}
