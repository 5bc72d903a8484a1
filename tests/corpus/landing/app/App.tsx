import { ArrowRight, Rocket, Shield, Zap } from "lucide-react"

import { Button } from "@/components/ui/button"

const FEATURES = [
  { icon: Zap, title: "Instant previews", text: "Every change is live in seconds, on any device." },
  { icon: Shield, title: "Safe by default", text: "Sandboxed builds with a strict import allowlist." },
  { icon: Rocket, title: "One-click publish", text: "Promote a preview to production when it is ready." },
]

export default function LandingPage() {
  return (
    <div className="min-h-screen bg-background text-foreground">
      <header className="sticky top-0 z-50 border-b bg-background/80 backdrop-blur">
        <div className="mx-auto flex h-16 max-w-6xl items-center justify-between px-6">
          <div data-testid="logo" className="flex w-[137px] items-center gap-2 font-bold">
            <Zap className="size-5 text-indigo-500" />
            Launchpad
          </div>
          <nav className="hidden gap-6 text-sm md:flex">
            <a data-testid="nav-link" href="#features" className="text-muted-foreground hover:underline">
              Features
            </a>
            <a href="#pricing" className="text-muted-foreground hover:text-foreground">
              Pricing
            </a>
          </nav>
        </div>
      </header>

      <section
        data-testid="hero"
        className="bg-gradient-to-r from-indigo-500 via-purple-500 to-pink-500 px-6 py-24 text-center text-white"
      >
        <h1 className="mx-auto max-w-3xl text-4xl font-extrabold tracking-tight sm:text-5xl md:text-6xl">
          Build apps at the speed of thought
        </h1>
        <p data-testid="hero-text" className="mx-auto mt-6 max-w-xl text-lg text-white/80">
          Describe what you want, watch it render, share it with a link.
        </p>
        <div className="mt-10 flex justify-center gap-4">
          <Button data-testid="cta" size="lg" className="bg-primary/90 shadow-lg">
            Get started <ArrowRight />
          </Button>
          <Button size="lg" variant="outline" className="border-white/40 bg-transparent text-white">
            Watch demo
          </Button>
        </div>
      </section>

      <section id="features" className="mx-auto max-w-6xl px-6 py-20">
        <div data-testid="features" className="grid grid-cols-1 gap-8 md:grid-cols-3">
          {FEATURES.map(({ icon: Icon, title, text }) => (
            <div
              key={title}
              className="rounded-2xl border p-6 shadow-sm transition hover:-translate-y-1 hover:shadow-lg"
            >
              <div className="mb-4 inline-flex size-12 items-center justify-center rounded-lg bg-indigo-100 text-indigo-600">
                <Icon className="size-6" />
              </div>
              <h3 className="text-lg font-semibold">{title}</h3>
              <p className="mt-2 text-sm text-muted-foreground">{text}</p>
            </div>
          ))}
        </div>
      </section>

      <section id="pricing" className="mx-auto max-w-6xl px-6 pb-24">
        <div data-testid="split" className="grid grid-cols-[1fr_2fr] items-center gap-8 rounded-3xl bg-muted p-10">
          <p className="text-5xl font-black text-indigo-600">$0</p>
          <p className="text-muted-foreground">
            Free while you prototype. Pay only when your app has users.
          </p>
        </div>
      </section>

      <footer className="border-t py-8 text-center text-sm text-muted-foreground">
        © 2026 Launchpad
      </footer>
    </div>
  )
}
