// Entry point under construction: wired in the activity pipeline / unsubscribe work.
export const handler = async (): Promise<never> => {
  throw new Error('This function is not wired yet.');
};
