// Each of @stage/compute's limits, reached on purpose.
import { mutation, query } from "@stage/compute";

export const big = mutation(async (ctx, { bytes }: { bytes: number }) =>
  await ctx.db.insert("blobs", { text: "x".repeat(bytes) })
);

export const writes = mutation(async (ctx, { n }: { n: number }) => {
  for (let i = 0; i < n; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, (_, j) =>
        ctx.db.insert("many", { i: i + j })),
    );
  }
  return n;
});

export const all = query(async (ctx) => (await ctx.db.query("many").collect()).length);

export const some = query(async (ctx, { n }: { n: number }) =>
  (await ctx.db.query("many").order("desc").take(n)).map((d) => d.i)
);

export const seed = mutation(async (ctx, { group, n }: { group: string; n: number }) => {
  await Promise.all(
    Array.from({ length: n }, (_, i) => ctx.db.insert("items", { group, rank: n - i })),
  );
  return n;
});

export const group = query(async (ctx, { group, order }: { group: string; order?: "asc" | "desc" }) =>
  (await ctx.db
    .query("items")
    .withIndex("by_group", (q) => q.eq("group", group))
    .order(order ?? "asc")
    .collect()).map((d) => d.rank)
);

export const writeInQuery = query(async (ctx: any) => await ctx.db.insert("items", { group: "q" }));

export const noIndex = query(async (ctx) =>
  await ctx.db.query("items").withIndex("by_missing", (q) => q.eq("x", 1)).collect()
);
