import type React from "react"
import type { Metadata } from "next"
import { Geist, Geist_Mono } from "next/font/google"
import Script from "next/script"
import { Analytics } from "@vercel/analytics/next"
import { SiteHeader } from "@/components/site-header"
import "./globals.css"

const geistSans = Geist({
  variable: "--font-geist-sans",
  subsets: ["latin"],
})

const geistMono = Geist_Mono({
  variable: "--font-geist-mono",
  subsets: ["latin"],
})

export const metadata: Metadata = {
  title: {
    default: "Northwind Supply",
    template: "%s | Northwind Supply",
  },
  description: "Outdoor gear, hand-picked by the Northwind team.",
  generator: "v0.app",
}

export default function RootLayout({
  children,
}: Readonly<{
  children: React.ReactNode
}>) {
  return (
    <html lang="en" className="dark" style={{ colorScheme: "dark" }} suppressHydrationWarning>
      <body className={`${geistSans.variable} ${geistMono.variable} font-sans antialiased`}>
        <SiteHeader />
        <main className="mx-auto max-w-5xl px-6 py-10">{children}</main>
        <Script id="store-visit" strategy="afterInteractive">
          {`window.storeVisit = { startedAt: Date.now(), source: "direct" };`}
        </Script>
        <Analytics />
      </body>
    </html>
  )
}
