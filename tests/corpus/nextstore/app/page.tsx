import Link from "next/link"
import Image from "next/image"
import { Badge } from "@/components/ui/badge"
import { Card, CardContent, CardFooter, CardHeader, CardTitle } from "@/components/ui/card"
import { products } from "@/lib/products"

export default function HomePage() {
  return (
    <section className="space-y-8">
      <div className="space-y-2">
        <h1 data-testid="home-title" className="text-4xl font-bold tracking-tight">
          {process.env.NEXT_PUBLIC_STORE_NAME ?? "Our store"}
        </h1>
        <p className="text-muted-foreground">Gear for long days outside.</p>
      </div>
      <div data-testid="product-grid" className="grid gap-6 sm:grid-cols-2 lg:grid-cols-3">
        {products.map((product) => (
          <Card key={product.id} data-testid="product-card">
            <CardHeader>
              <Image
                src="/placeholder.svg?height=160&width=320"
                alt={product.name}
                width={320}
                height={160}
                className="h-40 w-full rounded-md object-cover"
              />
              <CardTitle>{product.name}</CardTitle>
            </CardHeader>
            <CardContent className="flex items-center justify-between">
              <span className="font-mono text-lg">${product.price}</span>
              <Badge variant="secondary">{product.category}</Badge>
            </CardContent>
            <CardFooter>
              <Link href={`/items/${product.id}`} className="text-primary underline-offset-4 hover:underline">
                View {product.name}
              </Link>
            </CardFooter>
          </Card>
        ))}
      </div>
    </section>
  )
}
