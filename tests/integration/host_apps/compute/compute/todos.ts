// The todo list the page shows: a query, two mutations (one validated with zod).
import { mutation, query } from "@stage/compute";
import { z } from "zod";

export const list = query(async (ctx, args: { done?: boolean }) => {
  if (args.done === undefined) return await ctx.db.query("todos").order("asc").collect();
  return await ctx.db
    .query("todos")
    .withIndex("by_done", (q) => q.eq("done", args.done))
    .collect();
});

export const add = mutation({
  args: z.object({ title: z.string().min(1, "a todo needs a title").max(200) }),
  handler: async (ctx, { title }) => await ctx.db.insert("todos", { title, done: false }),
});

export const complete = mutation(async (ctx, { id }: { id: string }) => {
  await ctx.db.patch(id, { done: true });
  return await ctx.db.get(id);
});
