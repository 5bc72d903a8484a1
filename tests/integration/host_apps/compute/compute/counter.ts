// One counter per name: serial increments, a mutation that fails half way, a slow one.
import { action, mutation, query } from "@stage/compute";

async function bump(ctx: any, name: string) {
  const row = await ctx.db
    .query("counters")
    .withIndex("by_name", (q: any) => q.eq("name", name))
    .first();
  if (row === null) {
    await ctx.db.insert("counters", { name, value: 1 });
    return 1;
  }
  await ctx.db.patch(row._id, { value: row.value + 1 });
  return row.value + 1;
}

export const increment = mutation(async (ctx, { name }: { name: string }) => bump(ctx, name));

export const get = query(async (ctx, { name }: { name: string }) => {
  const row = await ctx.db
    .query("counters")
    .filter((q) => q.eq(q.field("name"), name))
    .first();
  return row?.value ?? 0;
});

export const halfway = mutation(async (ctx, { name }: { name: string }) => {
  await bump(ctx, name);
  await ctx.db.insert("counters", { name: name + "-extra", value: 1 });
  throw new Error("failed half way");
});

/** Bumps, then waits `ms` before a second write: a process killed meanwhile commits nothing. */
export const slow = mutation(async (ctx, { name, ms }: { name: string; ms: number }) => {
  await bump(ctx, name);
  await new Promise((resolve) => setTimeout(resolve, ms));
  await bump(ctx, name);
  return "done";
});

export const twice = action(async (ctx, { name }: { name: string }) => {
  await ctx.runMutation("counter", "increment", { name });
  await ctx.runMutation("counter:increment", { name });
  return await ctx.runQuery("counter", "get", { name });
});
