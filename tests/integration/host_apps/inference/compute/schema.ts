import { defineSchema, defineTable } from "@stage/compute";

export default defineSchema({
  tasks: defineTable({}).index("by_status", ["status"]),
});
