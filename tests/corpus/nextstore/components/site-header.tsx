"use client"

import Link from "next/link"
import { usePathname } from "next/navigation"
import { cn } from "@/lib/utils"

const links = [
  { href: "/", label: "Shop" },
  { href: "/about", label: "About" },
]

export function SiteHeader() {
  const pathname = usePathname()
  return (
    <header className="border-b">
      <nav className="mx-auto flex max-w-5xl items-center gap-6 px-6 py-4">
        <Link href="/" className="font-mono font-semibold" data-testid="logo">
          northwind
        </Link>
        {links.map((link) => (
          <Link
            key={link.href}
            href={link.href}
            data-testid={`nav-${link.label.toLowerCase()}`}
            aria-current={pathname === link.href ? "page" : undefined}
            className={cn(
              "text-sm transition-colors hover:text-foreground",
              pathname === link.href ? "text-foreground font-medium" : "text-muted-foreground",
            )}
          >
            {link.label}
          </Link>
        ))}
      </nav>
    </header>
  )
}
