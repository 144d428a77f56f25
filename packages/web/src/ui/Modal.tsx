/**
 * A modal form on the native <dialog> (focus trap and Escape for free), open while mounted.
 * `className` sizes it (the default `.dialog` is 480 px wide at most).
 */
import { useEffect, useId, useRef, type ReactNode } from 'react';

export function Modal(props: {
  title: ReactNode;
  onClose: () => void;
  children: ReactNode;
  testId?: string;
  className?: string;
}): ReactNode {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className={props.className ? `dialog ${props.className}` : 'dialog'}
      aria-labelledby={id}
      data-testid={props.testId}
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
    >
      <h2 id={id}>{props.title}</h2>
      {props.children}
    </dialog>
  );
}
