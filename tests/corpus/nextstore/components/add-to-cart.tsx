"use client"

import { useState } from "react"
import { useParams, useRouter, useSearchParams } from "next/navigation"
import { Button } from "@/components/ui/button"

export function AddToCart({ name }: { name: string }) {
  const router = useRouter()
  const searchParams = useSearchParams()
  const { id } = useParams<{ id: string }>()
  const [added, setAdded] = useState(Number(searchParams.get("qty") ?? 0))

  return (
    <div className="flex items-center gap-3">
      <Button
        data-testid="add-to-cart"
        data-product={id}
        onClick={() => {
          setAdded(added + 1)
          router.replace(`?qty=${added + 1}`, { scroll: false })
        }}
      >
        Add {name} to cart
      </Button>
      <span data-testid="cart-count" className="text-sm text-muted-foreground">
        {added} in cart
      </span>
      <Button variant="outline" data-testid="back" onClick={() => router.back()}>
        Back
      </Button>
    </div>
  )
}
