export { useToast, toast } from "@/hooks/use-toast"
