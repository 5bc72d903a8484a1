import { HashRouter, Link, Route, Routes } from "react-router-dom"

import Home from "./pages/Home"
import Post from "./pages/Post"

export default function App() {
  return (
    <HashRouter>
      <div className="min-h-screen bg-background text-foreground">
        <header className="border-b">
          <nav className="container mx-auto flex h-14 items-center justify-between px-4">
            <Link to="/" className="font-semibold">
              Field Notes
            </Link>
            <span className="text-sm text-muted-foreground">Est. 2026</span>
          </nav>
        </header>
        <main className="container mx-auto px-4 py-10">
          <Routes>
            <Route path="/" element={<Home />} />
            <Route path="/posts/:slug" element={<Post />} />
          </Routes>
        </main>
      </div>
    </HashRouter>
  )
}
