import Link from "next/link"

export default function NotFound() {
  return (
    <div className="space-y-4 text-center">
      <h1 data-testid="not-found" className="text-2xl font-semibold">We could not find that product.</h1>
      <Link href="/" className="text-primary">
        Back to the store
      </Link>
    </div>
  )
}
