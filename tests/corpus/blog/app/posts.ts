export interface Post {
  slug: string
  title: string
  excerpt: string
  tags: string[]
  date: string
  body: string[]
}

export const POSTS: Post[] = [
  {
    slug: "shipping-small",
    title: "Shipping small things every day",
    excerpt: "Why a daily release habit beats the quarterly big bang.",
    tags: ["Process", "Teams"],
    date: "March 3, 2026",
    body: [
      "Small releases are easy to review, easy to roll back and easy to explain.",
      "The hard part is not the tooling but the habit: cut the work until it fits in a day.",
    ],
  },
  {
    slug: "quiet-interfaces",
    title: "Designing quiet interfaces",
    excerpt: "Fewer colours, more whitespace, and type that does the work.",
    tags: ["Design"],
    date: "February 14, 2026",
    body: [
      "A quiet interface lets the content speak. Start with one accent colour.",
      "Use weight and size for hierarchy before you reach for another colour.",
    ],
  },
]
