export type Product = {
  id: string
  name: string
  price: number
  category: string
  description: string
}

export const products: Product[] = [
  { id: "1", name: "Ridge Tent", price: 349, category: "Shelter", description: "A two-person tent that pitches in four minutes." },
  { id: "2", name: "Trail Stove", price: 89, category: "Kitchen", description: "Boils a litre in three minutes on one canister." },
  { id: "42", name: "Summit Pack", price: 219, category: "Packs", description: "Fifty litres, one kilogram, no compromises." },
]
