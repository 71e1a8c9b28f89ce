import { lazy, Suspense, useEffect } from 'react'
import { createBrowserRouter, Navigate, RouterProvider } from 'react-router'
import { QueryClientProvider } from '@tanstack/react-query'
import { Toaster } from 'sonner'
import { onAuthLost } from './client/http'
import { queryClient, qk } from './lib/queryClient'
import { useTheme } from './lib/theme'
import { AppShell } from './components/AppShell'
import { RedirectIfAuthed, RequireAdmin, RequireAuth } from './features/auth/guards'
import { LoginPage } from './features/auth/LoginPage'
import { RegisterPage } from './features/auth/RegisterPage'
import { DocumentsPage } from './features/documents/DocumentsPage'
import { DocumentDetailPage } from './features/documents/DocumentDetailPage'
import { ChatPage } from './features/chat/ChatPage'
import { AccountPage } from './features/account/AccountPage'
import { SkeletonRows } from './components/ui/feedback'

// The admin area is rarely visited: keep it out of the main bundle.
const AdminPage = lazy(() => import('./features/admin/AdminPage'))
const CollectionsPage = lazy(() => import('./features/collections/CollectionsPage'))
const CollectionPage = lazy(() => import('./features/collections/CollectionPage'))

function NotFound() {
  return (
    <div className="mx-auto max-w-md px-6 py-24 text-center">
      <h1 className="text-lg font-semibold">Page not found</h1>
      <p className="mt-2 text-sm text-zinc-500 dark:text-zinc-400">
        <a className="text-accent-600 hover:underline dark:text-accent-300" href="/documents">Go to your documents</a>
      </p>
    </div>
  )
}

const router = createBrowserRouter([
  { path: '/login', element: <RedirectIfAuthed><LoginPage /></RedirectIfAuthed> },
  { path: '/register', element: <RedirectIfAuthed><RegisterPage /></RedirectIfAuthed> },
  {
    element: <RequireAuth><AppShell /></RequireAuth>,
    children: [
      { index: true, element: <Navigate to="/documents" replace /> },
      { path: 'documents', element: <DocumentsPage /> },
      { path: 'documents/:id', element: <DocumentDetailPage /> },
      // One optional-segment route, so the page (and a running stream) survives /chat → /chat/:id.
      { path: 'chat/:conversationId?', element: <ChatPage /> },
      { path: 'collections', element: <Suspense fallback={<SkeletonRows label="Loading collections" />}><CollectionsPage /></Suspense> },
      { path: 'collections/:id', element: <Suspense fallback={<SkeletonRows label="Loading collection" />}><CollectionPage /></Suspense> },
      { path: 'account', element: <AccountPage /> },
      {
        path: 'admin',
        element: (
          <RequireAdmin>
            <Suspense fallback={<SkeletonRows />}>
              <AdminPage />
            </Suspense>
          </RequireAdmin>
        ),
      },
      { path: '*', element: <NotFound /> },
    ],
  },
])

export function App() {
  const [theme] = useTheme()
  useEffect(() => {
    // A failed refresh means the session is over: forget the user, the guards send them to /login.
    // (Other users' data is dropped at the next sign-in, see forgetPreviousUser.)
    onAuthLost(() => queryClient.setQueryData(qk.me, null))
  }, [])
  return (
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
      <Toaster richColors closeButton position="bottom-right" theme={theme} />
    </QueryClientProvider>
  )
}
