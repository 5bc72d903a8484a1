// The tasks the SDK's example summarizes: `tasks:list` by status, `tasks:add` to seed.
import { mutation, query } from "@stage/compute";
import { z } from "zod";

export const list = query({
  args: z.object({ status: z.enum(["active", "done"]) }),
  handler: async (ctx, { status }) => {
    const tasks = await ctx.db
      .query("tasks")
      .withIndex("by_status", (q) => q.eq("status", status))
      .collect();
    return tasks.map(({ title, status }) => ({ title, status }));
  },
});

export const add = mutation({
  args: z.object({ title: z.string().min(1), status: z.enum(["active", "done"]) }),
  handler: async (ctx, task) => await ctx.db.insert("tasks", task),
});
