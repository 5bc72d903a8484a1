/* next/head: its children go into document.head (a <title> sets the document's title). */
import { Children, isValidElement, useEffect, type ReactElement, type ReactNode } from "react";
import { createPortal } from "react-dom";

export default function Head({ children }: { children?: ReactNode }): ReactNode {
  const rest: ReactNode[] = [];
  let title: string | null = null;
  Children.forEach(children, (child) => {
    if (isValidElement(child) && child.type === "title") {
      const text = (child as ReactElement<{ children?: ReactNode }>).props.children;
      title = Array.isArray(text) ? text.join("") : String(text ?? "");
    } else {
      rest.push(child);
    }
  });
  useEffect(() => {
    if (title !== null) document.title = title;
  }, [title]);
  return createPortal(rest, document.head);
}
