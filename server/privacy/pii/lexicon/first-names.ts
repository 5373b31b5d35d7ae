/**
 * Common given names (English-speaking countries plus frequent Spanish, Portuguese, French,
 * German, Italian, Nordic, Slavic, Greek, Arabic, Hebrew, Indian, Chinese, Japanese, Korean,
 * Vietnamese and African ones), lower case. One signal among several: a listed name still needs
 * a capital letter or a context cue, and the names in AMBIGUOUS_NAMES need more (see person.ts).
 */
const NAMES = `
aaron abby abdul abdullah abigail ada adam adele adrian adriana agnes ahmed ahmad aidan aiden aisha alan
albert alberto alec alejandro alex alexa alexander alexandra alexis alfred alfredo ali alice alicia alina
alison allan allen allison alma alvaro alyssa amanda amelia amir amit amy ana anastasia anders andre andrea
andreas andrew andy angel angela angelica angelo angie anil anita ann anna anne annette annie anthony antoine
anton antonio anya aria ariana arjun arnold arthur arturo ashley ashok astrid aubrey audrey austin ava
avery axel ayesha barbara barry beatrice beatriz becky ben benjamin bernard bernd bert beth betty beverly
bianca bjorn blake bob bobby boris brad bradley brandon brenda brendan brett brian bridget brittany brooke
bruce bruno bryan caitlin caleb camila cameron camille candace cara carl carla carlos carmen carol caroline
carolyn casey catherine cathy cecilia cedric celine chad charles charlie charlotte chen cheryl chloe chris
christian christina christine christopher cindy claire clara clarence claudia clint cody colin connor conor
craig cristina crystal cynthia daisuke dale damian dan dana daniel daniela danielle danny darius darren
dave david debbie deborah debra deepak denis denise dennis derek diana diane diego dimitri dmitri dolores
dominic don donald donna doris dorothy doug douglas duane dylan ed eddie edgar edith eduardo edward edwin
eileen elaine elena eleanor eli elias elijah elisa elizabeth ella ellen elliot emily emma emil emilia enrique
eric erica erik erin ernest esther ethan eugene eva evan evelyn fabian fatima federico felix fernando fiona
florian frances francesca francis francisco franco frank franz fred freddie frederick friedrich gabriel
gabriela gabrielle gail gareth gary gemma george georg gerald gerhard gina giorgio giovanni giulia giuseppe
glen glenn gloria gordon greg gregory greta gustavo gwen hamza hana hannah hans harold harriet harry
hassan heather hector heidi helen helena henrik henry hiroshi holly howard hugo hussein ian igor ilya
imran ingrid irene isaac isabel isabella isabelle ivan jack jackie jacob jacqueline jake james jamie jan
jane janet janice jasmine jason javier jay jean jeff jeffrey jennifer jenny jeremy jerome jerry jesse
jessica jill jim jimmy jin joan joanna joao jodie joe joel johan johann johanna john johnny jon jonas
jonathan jordan jorge jose josef joseph josephine josh joshua juan judith judy julia julian juliana julie
julien julio june jurgen justin kai kamal karen karim karin karl kate katarina katarzyna katherine kathleen
kathryn kathy katie katrin kay kayla keith kelly ken kenji kenneth kerry kevin khalid kim kimberly kirsten
klaus kristen kristin kurt kyle lakshmi lara larry laura lauren laurent lawrence leah lee leila lena leo
leon leonard leonardo leslie li liam lily linda lindsay lisa liu lois lorenzo lori louis louise lucas lucia
luciana lucy luis luisa luka luke lydia lynn magnus mandy manuel marc marcel marco marcus margaret maria
mariana marie marilyn mario marion marisol mark marta martha martin marvin mary mason mateo matilda matteo
matthew matthias maureen max maxim maya megan mei melanie melissa mia michael michaela michel michelle
miguel mikael mike mikhail mila miles milan mildred min ming miriam mohamed mohammed molly monica morgan
muhammad nadia nancy naomi natalia natalie natasha nathan neil nicholas nick nicola nicolas nicole niklas
nikolai nils nina noah noel nora norman oleg olga oliver olivia omar oscar otto owen pablo pamela paolo
patricia patrick paul paula pedro peggy peter petra philip philipp phillip pierre pietro pooja priya
rachel rafael rahul raj rajesh ralph ramon randy raquel raul ravi raymond rebecca regina reza ricardo
richard rick ricky rita rob robert roberta roberto robin rodrigo roger ronald rosa rosemary ross roy ruben
ruth ryan sabrina sadie salma sam samantha samir samuel sandra sanjay santiago sara sarah sasha scott
sean sebastian sergei sergio seth shannon sharon shawn sheila shirley simon simone sofia sonia sophia
sophie soren stacy stan stefan stefanie stella stephanie stephen steve steven stuart sue susan suzanne sven
sylvia takeshi tamara tammy tanya tara ted teresa terry thea theo theresa thomas tiffany tim timothy tina
tobias todd tom tommy tony tracy travis trevor tyler ursula valentina valeria vanessa vera veronica vicky
victor victoria vikram vincent violet vivian vladimir wade walter wanda wayne wei wendy william willie
wolfgang xavier yasmin yolanda yosef yuki yuri yusuf yvonne zach zachary zara zoe zoey zhang
`;

export const FIRST_NAMES: ReadonlySet<string> = new Set(NAMES.trim().split(/\s+/));

/**
 * Names that are also ordinary English words, months or places: they count as names only with a
 * context cue ("my name is", "Hi", a title, a relation word, a following surname), never alone.
 */
export const AMBIGUOUS_NAMES: ReadonlySet<string> = new Set(
  `will grace bill mark may june april august rose lily faith hope joy summer autumn dawn eve art rob sue pat
  frank jack chase hunter carter mason miles max sky river penny ruby amber crystal candy holly ivy iris
  daisy violet jade pearl ray drew dean gene guy lee don sandy rusty bob austin jordan paris georgia
  virginia sydney dallas lincoln nick angel christian milan noel finn chad chai latte page grant bishop king price rich sterling cash crane glen
  bud brook cliff dale forest heather marsh reed stone wade carol jay kay ken li kim lynn
  min`
    .trim()
    .split(/\s+/),
);
