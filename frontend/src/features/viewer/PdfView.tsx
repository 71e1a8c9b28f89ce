import { ErrorState, Skeleton } from '../../components/ui/feedback'
import { PdfPage, usePdf } from './PdfPage'

export default function PdfView({ data, page, snippet }: { data: ArrayBuffer; page: number; snippet: string }) {
  const { doc, error } = usePdf(data)
  if (error) return <ErrorState message={error} />
  if (!doc) return <div className="p-4"><Skeleton className="h-96 w-full" /></div>
  return <PdfPage key={`${page}:${snippet}`} doc={doc} initialPage={page} snippet={snippet} />
}
