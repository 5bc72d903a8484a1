import * as React from "react";
import { cn } from "@/lib/utils";

export function Input({ className, type, ...props }: React.ComponentProps<"input">) {
  return <input type={type} className={cn("h-9 w-full rounded-md border px-3 py-1", className)} {...props} />;
}
