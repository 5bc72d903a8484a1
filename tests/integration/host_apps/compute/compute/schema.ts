import { defineSchema, defineTable } from "@stage/compute";

export default defineSchema({
  todos: defineTable({}).index("by_done", ["done"]),
  counters: defineTable({}).index("by_name", ["name"]),
  items: defineTable({}).index("by_group", ["group", "rank"]),
});
