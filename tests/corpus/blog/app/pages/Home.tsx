import { Link } from "react-router-dom"

import { Badge } from "@/components/ui/badge"
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card"
import { POSTS } from "@/app/posts"

export default function Home() {
  return (
    <section>
      <h1 data-testid="blog-title" className="mb-2 text-4xl font-extrabold tracking-tight">
        The Field Notes
      </h1>
      <p className="mb-8 text-lg text-muted-foreground">Essays on building software calmly.</p>
      <div data-testid="post-list" className="grid gap-6 sm:grid-cols-2">
        {POSTS.map((post) => (
          <Card key={post.slug} data-testid="post-card" className="transition-shadow hover:shadow-md">
            <CardHeader>
              <div className="flex flex-wrap gap-2">
                {post.tags.map((tag) => (
                  <Badge key={tag} variant="secondary">
                    {tag}
                  </Badge>
                ))}
              </div>
              <CardTitle className="text-xl">
                <Link to={`/posts/${post.slug}`} className="hover:underline">
                  {post.title}
                </Link>
              </CardTitle>
              <CardDescription>{post.date}</CardDescription>
            </CardHeader>
            <CardContent>
              <p className="leading-7 text-muted-foreground">{post.excerpt}</p>
            </CardContent>
          </Card>
        ))}
      </div>
    </section>
  )
}
