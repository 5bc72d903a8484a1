"use client"

import dynamic from "next/dynamic"
import Link from "next/link"
import { useParams } from "next/navigation"

const PackingList = dynamic(() => import("@/components/packing-list"), {
  ssr: false,
  loading: () => <p className="text-muted-foreground">Loading the list…</p>,
})

export default function GuidePage() {
  const { slug } = useParams<{ slug: string[] }>()
  return (
    <article className="space-y-4">
      <h1 data-testid="guide-path" className="text-2xl font-semibold">
        {slug.join(" / ")}
      </h1>
      <Link href="#checklist" data-testid="to-checklist" className="text-primary">
        Jump to the checklist
      </Link>
      <div className="h-[1200px]" />
      <section id="checklist">
        <PackingList />
      </section>
    </article>
  )
}
