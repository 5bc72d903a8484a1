export default function MarketingLayout({ children }: { children: React.ReactNode }) {
  return (
    <div data-testid="marketing-layout" className="rounded-xl border bg-card p-8 text-card-foreground">
      {children}
    </div>
  )
}
