import { Link, useParams } from "react-router-dom"

import { Badge } from "@/components/ui/badge"
import { POSTS } from "@/app/posts"

export default function Post() {
  const { slug } = useParams()
  const post = POSTS.find((p) => p.slug === slug)

  if (!post) {
    return <p className="text-muted-foreground">No post called “{slug}”.</p>
  }

  return (
    <article data-testid="article" className="max-w-2xl">
      <Link to="/" className="text-sm font-medium text-primary underline-offset-4 hover:underline">
        ← All posts
      </Link>
      <h1 data-testid="post-title" className="mt-4 scroll-m-20 text-3xl font-bold tracking-tight">
        {post.title}
      </h1>
      <div className="mt-3 flex items-center gap-3 text-sm text-muted-foreground">
        <time>{post.date}</time>
        {post.tags.map((tag) => (
          <Badge key={tag} variant="outline">
            {tag}
          </Badge>
        ))}
      </div>
      <blockquote className="mt-6 border-l-2 pl-6 italic">{post.excerpt}</blockquote>
      {post.body.map((paragraph) => (
        <p key={paragraph} className="leading-7 [&:not(:first-child)]:mt-6">
          {paragraph}
        </p>
      ))}
    </article>
  )
}
