/**
 * Ordinary English words that are never taken as a name on their own, even capitalized after a cue
 * ("I'm Sorry", "Hi There", "This is Urgent") or in ALL-CAPS text. Lower case.
 */
const WORDS = `
a about above across actually after again against ago ah ahead all almost alone along already also always
am an and another any anybody anyone anything anyway anywhere are around as ask asking at available away
back bad be because been before being below best better between big bit both bye but by call calling
calm can cannot cant careful certain certainly checking cheers clear close cold come coming confused
could customer day dear did do does doing done dont down during each early easy either else enough even
ever every everyone everything exactly excited fine first for forward free from frustrated full fun
glad go going gone good goodbye got great guys had happy hard has have having he hello help here hers
herself hey hi him himself his home hope hoping how however i if ill im in inside interested into is it
its itself ive just kind know last late later least leaving less let like little living long looking lost
lot made make many maybe me mine more most much must my myself name near need needing never new next nice
no nobody none nope nor not nothing now of off oh ok okay old on once one only open or other our ours out
outside over own please pleased pretty probably quite rather ready real really regards right sad same
say see she should since sincerely so some somebody someone something sometimes soon sorry still
stuck such super support sure team than thank thanks that the their them then there these they thing
things this those though through thx to today together tomorrow tonight too totally trying twice two
under unfortunately unhappy until up upset urgent us very waiting want wanted wanting was we well were
what whatever when where whether which while who whom whose why will with within without wondering
would wow yeah yes yesterday yet you your yours yourself
monday tuesday wednesday thursday friday saturday sunday january february march april may june july
august september october november december mon tue wed thu fri sat sun jan feb mar apr jun jul aug sep
sept oct nov dec am pm time date birth street avenue road hotel inn venue club apartments apartment
restaurant bank cafe airport hospital university city town north south east west center centre
account number pin password code card credit debit phone email address room ride driver doctor dr
mr mrs ms miss sir madam mister prof ai bot assistant everyone everybody folks guys office clinic gotta gonna wanna
again sorry hey welcome congrats congratulations morning afternoon evening night there`;

export const COMMON_WORDS: ReadonlySet<string> = new Set(WORDS.trim().split(/\s+/));
