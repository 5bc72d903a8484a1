import type { Metadata } from "next"
import { notFound } from "next/navigation"
import { Badge } from "@/components/ui/badge"
import { AddToCart } from "@/components/add-to-cart"
import { products } from "@/lib/products"

export async function generateMetadata({ params }: { params: Promise<{ id: string }> }): Promise<Metadata> {
  const { id } = await params
  const product = products.find((p) => p.id === id)
  return { title: product?.name ?? "Product" }
}

export default async function ItemPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params
  const product = products.find((p) => p.id === id)
  if (!product) {
    notFound()
  }

  return (
    <article className="space-y-6">
      <p data-testid="item-id" className="font-mono text-sm text-muted-foreground">
        Item #{id}
      </p>
      <h1 data-testid="item-name" className="text-3xl font-semibold">
        {product.name}
      </h1>
      <Badge>{product.category}</Badge>
      <p className="max-w-prose text-muted-foreground">{product.description}</p>
      <AddToCart name={product.name} />
    </article>
  )
}
